import { type ApplicationConfig, provideZonelessChangeDetection } from "@angular/core";

/**
 * The app's providers. Zoneless: no zone.js; the component tells Angular when Herald changed
 * something (`markForCheck`). To point the app at a fixed Herald, add
 * `{ provide: HERALD_URL, useValue: "https://hub.example.com" }` (see herald-url.ts).
 */
export const appConfig: ApplicationConfig = {
  providers: [provideZonelessChangeDetection()],
};
