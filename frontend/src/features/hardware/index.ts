export { HardwarePanel } from "./components/HardwarePanel";
