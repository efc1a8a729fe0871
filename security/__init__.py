"""Security tooling that is not part of the running portal: `make attack` lives in `attack/`."""
