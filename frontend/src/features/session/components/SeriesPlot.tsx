import { useLayoutEffect, useRef, useState } from "react";
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";

import { formatValue } from "../../../components/DetailsTable";
import { withUnits } from "../../../lib/units";
import { peak, type Series } from "../utils/series";

/** The element's width, following resizes; `fallback` until measured (and in jsdom). */
function useWidth(fallback: number) {
  const ref = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      if (el.clientWidth > 0) setWidth(el.clientWidth);
    };
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

/** A line plot of one series, with its peak stated in text for those who can't see it. */
export function SeriesPlot({ series, height = 280 }: { series: Series; height?: number }) {
  const { ref, width } = useWidth(560);
  const data = series.x.map((x, i) => ({ x, y: series.y[i] }));
  const top = peak(series);
  const xLabel = series.xLabel ? withUnits(series.xLabel) : undefined;
  const yLabel = series.yLabel ? withUnits(series.yLabel) : undefined;
  return (
    <figure className="plot" aria-label={`Plot of ${series.path}`} ref={ref}>
      <LineChart width={width} height={height} data={data} margin={{ top: 8, right: 24, bottom: 20, left: yLabel ? 16 : 4 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="x"
          type="number"
          domain={["dataMin", "dataMax"]}
          tickFormatter={(v: number) => formatValue(v)}
          label={xLabel ? { value: xLabel, position: "insideBottom", offset: -12 } : undefined}
        />
        <YAxis
          type="number"
          width={64}
          domain={["auto", "auto"]}
          tickFormatter={(v: number) => formatValue(v)}
          label={yLabel ? { value: yLabel, angle: -90, position: "left", offset: 2 } : undefined}
        />
        <Tooltip formatter={(v) => formatValue(v)} labelFormatter={(v) => `x = ${formatValue(v)}`} />
        <Line type="linear" dataKey="y" stroke="#2563eb" dot={data.length <= 50} isAnimationActive={false} />
      </LineChart>
      <figcaption>
        <strong>{series.path}</strong>: {series.x.length} points, peak {yLabel ?? "y"} = {formatValue(top.y)} at{" "}
        {xLabel ?? "x"} = {formatValue(top.x)}
      </figcaption>
    </figure>
  );
}
