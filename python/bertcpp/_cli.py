"""The `bertcpp` console script of a pip install: runs the command built with the package
(bertcpp/bin/bertcpp) with the same arguments, so its exit code and streams are the command's."""
import os
import sys
from pathlib import Path


def main() -> None:
    command = Path(__file__).resolve().parent / "bin" / "bertcpp"
    if not command.is_file():
        sys.stderr.write(f"bertcpp: the command is not installed with this package (looked for {command}); "
                         "build it with scripts/build.sh, or reinstall with pip install .\n")
        sys.exit(127)
    os.execv(str(command), [str(command)] + sys.argv[1:])


if __name__ == "__main__":
    main()
