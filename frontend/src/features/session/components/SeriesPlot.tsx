import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";

import { formatValue } from "../../../components/DetailsTable";
import { peak, type Series } from "../utils/series";

/** A line plot of one series, with its peak stated in text for those who can't see it. */
export function SeriesPlot({ series, width = 560, height = 260 }: { series: Series; width?: number; height?: number }) {
  const data = series.x.map((x, i) => ({ x, y: series.y[i] }));
  const top = peak(series);
  const title = `Plot of ${series.path}`;
  return (
    <figure className="plot" aria-label={title}>
      <LineChart width={width} height={height} data={data} margin={{ top: 8, right: 16, bottom: 16, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="x"
          type="number"
          domain={["dataMin", "dataMax"]}
          tickFormatter={(v: number) => formatValue(v)}
          label={series.xLabel ? { value: series.xLabel, position: "insideBottom", offset: -8 } : undefined}
        />
        <YAxis
          type="number"
          domain={["auto", "auto"]}
          tickFormatter={(v: number) => formatValue(v)}
          label={series.yLabel ? { value: series.yLabel, angle: -90, position: "insideLeft" } : undefined}
        />
        <Tooltip formatter={(v) => formatValue(v)} labelFormatter={(v) => `x = ${formatValue(v)}`} />
        <Line type="linear" dataKey="y" stroke="#2563eb" dot={data.length <= 50} isAnimationActive={false} />
      </LineChart>
      <figcaption>
        <strong>{series.path}</strong>: {series.x.length} points, peak y = {formatValue(top.y)} at x = {formatValue(top.x)}
      </figcaption>
    </figure>
  );
}
