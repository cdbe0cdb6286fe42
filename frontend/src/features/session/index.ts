export { SessionView } from "./components/SessionView";
export { WebSocketFactoryContext } from "./hooks/use-session";
