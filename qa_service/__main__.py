"""Allow `python -m qa_service`."""

from .cli import main

main()
