import { BrowserRouter, Link, Route, Routes } from "react-router-dom";

import { OperatorAlerts } from "../features/alerts";
import { DashboardPage } from "./routes/DashboardPage";
import { NotFoundPage } from "./routes/NotFoundPage";
import { SessionPage } from "./routes/SessionPage";

export function AppRoutes() {
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          Interlock
        </Link>
        <span className="muted">operator console</span>
        <OperatorAlerts />
      </header>
      <main>
        <Routes>
          <Route path="/" element={<DashboardPage />} />
          <Route path="/sessions/:sessionId" element={<SessionPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </main>
    </div>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <AppRoutes />
    </BrowserRouter>
  );
}
