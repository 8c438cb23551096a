/**
 * A minimal stand-in for the few `@angular/core` declarations the example uses, so CI type-checks
 * the example (`tsc --noEmit`) without installing Angular. In an Angular app, delete this file: the
 * real `@angular/core` declares the same names.
 */
declare module "@angular/core" {
  type ClassDecorator = <T extends abstract new (...args: never[]) => unknown>(
    target: T,
    context?: unknown,
  ) => void;
  export function Injectable(options?: { providedIn?: "root" | null }): ClassDecorator;
  export function Component(options: {
    selector: string;
    standalone?: boolean;
    template: string;
  }): ClassDecorator;
  export interface OnInit {
    ngOnInit(): void;
  }
  export interface OnDestroy {
    ngOnDestroy(): void;
  }
  export function inject<T>(token: abstract new (...args: never[]) => T): T;
}
