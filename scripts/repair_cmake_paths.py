"""
Point the ROS wheels' exported CMake targets at this interpreter's include directories.

The ros-kilted wheels were built in a manylinux container; their *Export.cmake files name that
container's Python and numpy include directories, which CMake refuses because they do not
exist here. Idempotent. Usage: python repair_cmake_paths.py VENV
"""

import pathlib
import sys
import sysconfig

import numpy

WHEEL_PYTHON_INCLUDE = '/opt/python/cp311-cp311/include/python3.11'
WHEEL_NUMPY_INCLUDE = '/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include'


def main() -> int:
    venv = pathlib.Path(sys.argv[1])
    replacements = {
        WHEEL_PYTHON_INCLUDE: sysconfig.get_paths()['include'],
        WHEEL_NUMPY_INCLUDE: numpy.get_include(),
    }
    fixed = 0
    for path in (venv / 'share').rglob('*.cmake'):
        text = path.read_text()
        new = text
        for old, repl in replacements.items():
            new = new.replace(old, repl)
        if new != text:
            path.write_text(new)
            fixed += 1
    print(f'[setup] repaired include paths in {fixed} CMake files')
    return 0


if __name__ == '__main__':
    sys.exit(main())
