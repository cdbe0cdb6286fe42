export { StartTaskForm } from "./components/StartTaskForm";
