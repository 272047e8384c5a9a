// Charts are Vega-Lite specs rendered to SVG by Vega itself (its headless 'none' renderer needs
// no canvas), so every chart is reproducible from the JSON data it is drawn from.
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import * as vegaLite from 'vega-lite';

export type ChartSpec = TopLevelSpec;
type Row = Record<string, unknown>;

const schema = 'https://vega.github.io/schema/vega-lite/v6.json';
const font = 'Helvetica, Arial, sans-serif';
const config = {
  font,
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 240 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  header: { labelFontSize: 12, titleFontSize: 12, labelFontWeight: 'bold' as const },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** Compiles a Vega-Lite spec and renders it to an SVG document. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  // Vega-Lite warns that faceted panels with independent scales share one data source: they do,
  // on purpose (one table of medians, a panel per case), so only errors are worth printing.
  const compiled = vegaLite.compile(spec, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface BarChart {
  readonly title: string;
  readonly rows: readonly Row[];
  /** Field naming the bar (a contender). */
  readonly bar: string;
  /** Field holding the bar's length. */
  readonly value: string;
  readonly valueTitle: string;
  /** Field splitting the chart into one panel per value (a job kind, a size), if any. */
  readonly panel?: string;
  /** Each panel gets its own value axis (jobs/s for tiny and CPU jobs differ a hundredfold). */
  readonly independentScales?: boolean;
  /** A logarithmic value axis, for figures that span orders of magnitude. */
  readonly logScale?: boolean;
  /** A reference value drawn as a rule in every panel (a target), if any. */
  readonly rule?: { readonly field: string; readonly label: string };
}

/** The values of `field` in the order they first appear: panels in the order the benchmark made them. */
function orderOf(rows: readonly Row[], field: string): unknown[] {
  return [...new Set(rows.map((row) => row[field]))];
}

/** Horizontal bars, one per contender, optionally one panel per case. Rows without a figure are left out. */
export function barChart(chart: BarChart): ChartSpec {
  const rows = chart.rows.filter((row) => Number.isFinite(row[chart.value]));
  const layer: Record<string, unknown>[] = [
    {
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: chart.bar, type: 'nominal', title: null, sort: null },
        x: {
          field: chart.value,
          type: 'quantitative',
          title: chart.valueTitle,
          // symlog, not log: a bar starts at zero, which a log scale cannot place
          ...(chart.logScale ? { scale: { type: 'symlog' } } : {}),
        },
        color: { field: chart.bar, type: 'nominal', legend: null },
      },
    },
    {
      mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
      encoding: {
        y: { field: chart.bar, type: 'nominal', sort: null },
        x: { field: chart.value, type: 'quantitative' },
        text: { field: chart.value, type: 'quantitative', format: ',.3~r' },
      },
    },
  ];
  if (chart.rule) {
    layer.push({
      mark: { type: 'rule', color: '#c00', strokeDash: [4, 3] },
      encoding: { x: { field: chart.rule.field, type: 'quantitative', aggregate: 'max', title: chart.rule.label } },
    });
  }
  const inner = { width: 360, layer };
  const spec = chart.panel
    ? {
        data: { values: rows },
        facet: {
          row: {
            field: chart.panel,
            type: 'nominal',
            title: null,
            sort: orderOf(rows, chart.panel),
            header: { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start' },
          },
        },
        spec: inner,
        // each panel lists only its own bars, and with independentScales has its own value axis
        resolve: { scale: { y: 'independent', ...(chart.independentScales ? { x: 'independent' } : {}) } },
      }
    : { data: { values: rows }, ...inner };
  // the layers are built as plain objects; Vega-Lite's compile validates them at render time
  return { $schema: schema, title: chart.title, config, ...spec } as unknown as ChartSpec;
}

export interface LineChart {
  readonly title: string;
  readonly rows: readonly Row[];
  readonly x: string;
  readonly xTitle: string;
  readonly y: string;
  readonly yTitle: string;
  /** Field naming the line (a contender). */
  readonly series: string;
  readonly logX?: boolean;
  readonly logY?: boolean;
  /** Field splitting the chart into side-by-side panels, if any. */
  readonly panel?: string;
  readonly independentY?: boolean;
  /** A field drawn as a dashed reference line per panel (an ideal, a target), if any. */
  readonly reference?: { readonly field: string; readonly label: string };
}

/** Lines with points, one per contender, optionally one panel per case. */
export function lineChart(chart: LineChart): ChartSpec {
  const x = {
    field: chart.x,
    type: 'quantitative',
    title: chart.xTitle,
    // thread counts and concurrencies are whole numbers
    ...(chart.logX ? { scale: { type: 'log' } } : { axis: { tickMinStep: 1, format: 'd' } }),
  };
  const y = {
    field: chart.y,
    type: 'quantitative',
    title: chart.yTitle,
    ...(chart.logY ? { scale: { type: 'log' } } : {}),
  };
  const layer: Record<string, unknown>[] = [
    {
      mark: { type: 'line', point: true, tooltip: true },
      encoding: { x, y, color: { field: chart.series, type: 'nominal', title: null, sort: null } },
    },
  ];
  if (chart.reference) {
    layer.push({
      mark: { type: 'line', strokeDash: [4, 3], color: '#888' },
      encoding: {
        x,
        y: { field: chart.reference.field, type: 'quantitative', aggregate: 'max' },
        detail: { datum: chart.reference.label },
      },
    });
  }
  const inner = { width: 320, height: 220, layer };
  const spec = chart.panel
    ? {
        data: { values: chart.rows },
        facet: { column: { field: chart.panel, type: 'nominal', title: null, sort: orderOf(chart.rows, chart.panel) } },
        spec: inner,
        ...(chart.independentY ? { resolve: { scale: { y: 'independent' } } } : {}),
      }
    : { data: { values: chart.rows }, ...inner };
  // the layers are built as plain objects; Vega-Lite's compile validates them at render time
  return { $schema: schema, title: chart.title, config, ...spec } as unknown as ChartSpec;
}
