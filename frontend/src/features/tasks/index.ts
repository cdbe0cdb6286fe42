export { TaskList } from "./components/TaskList";
