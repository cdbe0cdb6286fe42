import { useNavigate } from "react-router-dom";

import { HardwarePanel } from "../../features/hardware";
import { StartTaskForm } from "../../features/start";
import { TaskList } from "../../features/tasks";

export function DashboardPage() {
  const navigate = useNavigate();
  return (
    <div className="dashboard">
      <div className="column">
        <StartTaskForm onStarted={(task) => navigate(`/sessions/${encodeURIComponent(task.session_id)}`)} />
        <HardwarePanel />
      </div>
      <div className="column wide">
        <TaskList />
      </div>
    </div>
  );
}
