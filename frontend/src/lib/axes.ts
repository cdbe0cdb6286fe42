import { useEffect, useState } from "react";

import { api } from "./api-client";
import type { AxisState, HardwareState } from "./api-types";

/** An axis as a form offers it: what to send (`id`) and what to show. */
export type AxisOption = Pick<AxisState, "id" | "name" | "unit">;

/**
 * The controller's axes (GET /hardware), read once per mount: parameter and input forms
 * offer them in a select. `undefined` until loaded, and when the hardware cannot be read
 * (the forms then fall back to a text field, and the server still checks the id).
 */
export function useAxes(): AxisOption[] | undefined {
  const [axes, setAxes] = useState<AxisOption[]>();
  useEffect(() => {
    const controller = new AbortController();
    api.get<HardwareState>("/hardware", controller.signal).then(
      (state) => {
        if (!controller.signal.aborted) setAxes(state.axes.map(({ id, name, unit }) => ({ id, name, unit })));
      },
      () => {},
    );
    return () => controller.abort();
  }, []);
  return axes;
}
