import { api } from "../../../lib/api-client";

export interface AxisState {
  id: string;
  name: string;
  unit: string;
  position: number;
  moving: boolean;
  min: number;
  max: number;
}

export interface HardwareState {
  controller: string;
  axes: AxisState[];
}

export function getHardware(signal?: AbortSignal): Promise<HardwareState> {
  return api.get<HardwareState>("/hardware", signal);
}

export function stopAllAxes(): Promise<unknown> {
  return api.post("/hardware/stop");
}
