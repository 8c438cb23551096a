const SVG = "http://www.w3.org/2000/svg";

/**
 * A small live line chart in inline SVG: two series (events/s in and out) over the last `size`
 * samples, scaled to the largest value shown. No chart library.
 */
export class RateChart {
  private readonly lines: SVGPolylineElement[];
  private readonly series: number[][];
  private readonly svg: SVGSVGElement;

  constructor(
    container: HTMLElement,
    private readonly size = 60,
  ) {
    this.series = [new Array<number>(size).fill(0), new Array<number>(size).fill(0)];
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("viewBox", `0 0 ${size - 1} 100`);
    this.svg.setAttribute("preserveAspectRatio", "none");
    this.lines = ["in", "out"].map((name) => {
      const line = document.createElementNS(SVG, "polyline");
      line.setAttribute("class", name);
      line.setAttribute("fill", "none");
      line.setAttribute("stroke-width", "2");
      line.setAttribute("vector-effect", "non-scaling-stroke");
      this.svg.append(line);
      return line;
    });
    container.append(this.svg);
    this.push([0, 0]);
  }

  push(values: readonly number[]): void {
    values.forEach((value, i) => {
      const s = this.series[i]!;
      s.push(value);
      if (s.length > this.size) s.shift();
    });
    const max = Math.max(1, ...this.series.flat());
    this.series.forEach((s, i) => {
      const offset = this.size - s.length;
      const points = s.map((v, x) => `${x + offset},${(100 - (v / max) * 96).toFixed(1)}`).join(" ");
      this.lines[i]!.setAttribute("points", points);
    });
  }
}
