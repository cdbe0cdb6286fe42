import { api } from "../../../lib/api-client";
import type { HardwareState } from "../../../lib/api-types";

export type { AxisState, HardwareState } from "../../../lib/api-types";

export function getHardware(signal?: AbortSignal): Promise<HardwareState> {
  return api.get<HardwareState>("/hardware", signal);
}

export function stopAllAxes(): Promise<unknown> {
  return api.post("/hardware/stop");
}
