"""Window parts for the ordinance's workflows: the due-dates dashboard
(``dashboard.DueDashboard``) and the next-of-kin preview mode
(``preview.PreviewWindow``). Each takes its model in the constructor and can
be shown on its own or opened from the main window's menu."""
