"""Allow `python -m qa_service`."""

from qa_service.cli import main

main()
