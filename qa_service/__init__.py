"""qa_service: ask questions of published reports and get cited findings."""
