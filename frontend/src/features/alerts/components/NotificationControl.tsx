import type { NotificationState } from "../hooks/use-notifications";

/** The one place that asks for notification permission: a button the person presses. */
export function NotificationControl({ permission, onEnable }: { permission: NotificationState; onEnable: () => void }) {
  switch (permission) {
    case "default":
      return (
        <button type="button" className="link notify" onClick={onEnable}>
          Enable notifications
        </button>
      );
    case "granted":
      return <span className="muted notify">Notifications on</span>;
    case "denied":
      return <span className="muted notify">Notifications blocked (browser site settings)</span>;
    case "unsupported":
      return null;
  }
}
