"""Builds the `bertcpp._bertcpp` extension and the `bertcpp` command with the project's CMake
(targets bertcpp_python and bertcpp; the command is shipped as bertcpp/bin/bertcpp and run by the
`bertcpp` console script, bertcpp/_cli.py).

Metadata lives in pyproject.toml. Environment knobs:
  BERTCPP_CMAKE_ARGS   extra arguments for the CMake configure step
  BERTCPP_BUILD_JOBS   parallel build jobs (default: the CPU count)
"""
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
(ROOT / "build-pip").mkdir(exist_ok=True)


class CMakeExtension(Extension):
    def __init__(self, name: str):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        cmake = shutil.which("cmake")
        if cmake is None:
            raise RuntimeError("building bertcpp needs cmake (and the packages of scripts/setup.sh)")
        build_dir = Path(self.build_temp).resolve() / "cmake"
        build_dir.mkdir(parents=True, exist_ok=True)
        configure = [
            cmake, "-S", str(ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DPython3_EXECUTABLE={sys.executable}",
            "-DBERTCPP_BUILD_PYTHON=ON", "-DBERTCPP_BUILD_TESTS=OFF", "-DBERTCPP_BUILD_BENCH=OFF",
        ] + shlex.split(os.environ.get("BERTCPP_CMAKE_ARGS", ""))
        subprocess.run(configure, check=True)
        jobs = os.environ.get("BERTCPP_BUILD_JOBS") or str(os.cpu_count() or 1)
        subprocess.run([cmake, "--build", str(build_dir), "--target", "bertcpp_python", "bertcpp", "-j", jobs], check=True)
        built = sorted((build_dir / "python" / "bertcpp").glob("_bertcpp*.so"))
        if not built:
            raise RuntimeError(f"CMake did not produce the _bertcpp extension in {build_dir / 'python' / 'bertcpp'} "
                               "(is pybind11-dev installed? see scripts/setup.sh)")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[-1], target)
        command = build_dir / "bin" / "bertcpp"
        if not command.is_file():
            raise RuntimeError(f"CMake did not produce the bertcpp command at {command}")
        (target.parent / "bin").mkdir(exist_ok=True)
        shutil.copy2(command, target.parent / "bin" / "bertcpp")


setup(
    ext_modules=[CMakeExtension("bertcpp._bertcpp")],
    cmdclass={"build_ext": CMakeBuild},
    # ./build is a common CMake build folder: keep setuptools' files apart.
    options={"build": {"build_base": "build-pip"}, "egg_info": {"egg_base": "build-pip"}},
    zip_safe=False,
)
