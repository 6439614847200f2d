"""Exit 0 when every package of a requirements file is installed (any version), else 1.

Any recent numpy/torch works, so a student's own environment is used as it is;
only missing packages send run_grader.sh to create .venv.
"""
import re
import sys
from importlib import metadata

missing = []
for line in open(sys.argv[1]):
    requirement = line.split("#")[0].strip()
    if not requirement:
        continue
    name, _, marker = requirement.partition(";")
    if marker and not eval(marker.replace("python_version", repr(f"{sys.version_info[0]}.{sys.version_info[1]}"))):
        continue
    try:
        metadata.version(re.split(r"[=<>!~\[ ]", name.strip())[0])
    except metadata.PackageNotFoundError:
        missing.append(name.strip())
sys.exit(1 if missing else 0)
