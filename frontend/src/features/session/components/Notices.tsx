import type { Notice } from "../hooks/session-state";

export function Notices({ notices, onDismiss }: { notices: Notice[]; onDismiss: (id: number) => void }) {
  return (
    <div className="notices" role="log" aria-label="Notices">
      {notices.map((notice) => (
        <p key={notice.id} className={`notice notice-${notice.tone}`}>
          <span>{notice.text}</span>
          <button type="button" className="link" onClick={() => onDismiss(notice.id)} aria-label={`Dismiss: ${notice.text}`}>
            ×
          </button>
        </p>
      ))}
    </div>
  );
}
