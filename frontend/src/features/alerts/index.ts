export { OperatorAlerts } from "./components/OperatorAlerts";
