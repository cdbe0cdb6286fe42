import type { ReactNode } from "react";
import { BrowserRouter, Link, Route, Routes } from "react-router-dom";

import { OperatorAlerts } from "../features/alerts";
import { AuthProvider, RequireSignIn, SIGN_IN_PATH, SignedInAs, SignInPage } from "../features/auth";
import { DashboardPage } from "./routes/DashboardPage";
import { NotFoundPage } from "./routes/NotFoundPage";
import { SessionPage } from "./routes/SessionPage";

function Layout({ header, children }: { header?: ReactNode; children: ReactNode }) {
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          Interlock
        </Link>
        <span className="muted">operator console</span>
        {header}
      </header>
      <main>{children}</main>
    </div>
  );
}

/** Every page but the sign-in: shown only to a signed-in person (anyone, with auth off). */
function Console() {
  return (
    <Layout
      header={
        <>
          <OperatorAlerts />
          <SignedInAs />
        </>
      }
    >
      <Routes>
        <Route path="/" element={<DashboardPage />} />
        <Route path="/sessions/:sessionId" element={<SessionPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </Layout>
  );
}

export function AppRoutes() {
  return (
    <AuthProvider>
      <Routes>
        <Route
          path={SIGN_IN_PATH}
          element={
            <Layout>
              <SignInPage />
            </Layout>
          }
        />
        <Route
          path="*"
          element={
            <RequireSignIn>
              <Console />
            </RequireSignIn>
          }
        />
      </Routes>
    </AuthProvider>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <AppRoutes />
    </BrowserRouter>
  );
}
