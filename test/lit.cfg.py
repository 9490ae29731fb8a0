# -*- Python -*-
# lit configuration for gatec. Run via `ninja -C build check-gatec-lit` or
# `lit -sv build/test` (the site config in build/test points back here).
import os
import shutil
import subprocess

import lit.formats
import lit.util

config.name = "gatec"
config.test_format = lit.formats.ShTest(not lit.util.which("bash") is None)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "README.md"]

config.test_source_root = os.path.dirname(__file__)
gatec_obj_root = getattr(config, "gatec_obj_root", None)
if gatec_obj_root:
    config.test_exec_root = os.path.join(gatec_obj_root, "test")
else:
    # Run straight from the source tree (no site config): assume build/.
    gatec_obj_root = os.path.join(os.path.dirname(config.test_source_root), "build")
    config.gatec_obj_root = gatec_obj_root
    config.test_exec_root = os.path.join(gatec_obj_root, "test")

tools_dir = getattr(config, "gatec_tools_dir", None) or os.path.join(gatec_obj_root, "bin")
llvm_tools_dir = getattr(config, "llvm_tools_dir", None) or "/usr/lib/llvm-22/bin"

config.environment["PATH"] = os.pathsep.join(
    [tools_dir, llvm_tools_dir, config.environment.get("PATH", os.environ.get("PATH", ""))])
# Keep test output deterministic.
config.environment["LC_ALL"] = "C"


def find_tool(name, dirs):
    for d in dirs:
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


# gatec's own tools. Substitute full paths so a stale binary on PATH is never
# picked up; substitute only as whole words.
for tool in ["gatec-opt", "gatec"]:
    path = find_tool(tool, [tools_dir])
    if path:
        config.substitutions.append((r"(?<![-\w/.])%s(?![-\w])" % tool, path))
        config.available_features.add(tool)
    elif tool == "gatec-opt":
        lit_config.fatal("gatec-opt not found in %s; build it first" % tools_dir)

for tool in ["FileCheck", "not", "count"]:
    path = find_tool(tool, [llvm_tools_dir])
    if not path:
        lit_config.fatal("%s not found in %s" % (tool, llvm_tools_dir))
    config.substitutions.append((r"(?<![-\w/.])%s(?![-\w])" % tool, path))

# Optional upstream tools: tests that use them say `REQUIRES: <tool>`.
for tool in ["mlir-translate", "mlir-runner"]:
    path = find_tool(tool, [llvm_tools_dir])
    if path:
        config.substitutions.append((r"(?<![-\w/.])%s(?![-\w])" % tool, path))
        config.available_features.add(tool)

# JIT execution of whole modules (Integration/CPU): mlir-runner plus its
# runtime libraries and the OpenMP runtime the parallel kernels call.
# `%gatec-jit` runs the lowered module's @main.
llvm_lib_dir = getattr(config, "llvm_lib_dir", None) or os.path.join(
    os.path.dirname(llvm_tools_dir), "lib")
runner_libs = [os.path.join(llvm_lib_dir, lib) for lib in
               ["libmlir_runner_utils.so", "libmlir_c_runner_utils.so", "libomp.so"]]
mlir_runner = find_tool("mlir-runner", [llvm_tools_dir])
if mlir_runner and all(os.path.exists(lib) for lib in runner_libs):
    config.available_features.add("jit")
    config.substitutions.append(
        ("%gatec-jit", "%s -e main -entry-point-result=void -shared-libs=%s"
         % (mlir_runner, ",".join(runner_libs))))

# Optional CUDA pieces: ptxas for compile-only checks, a GPU for run tests.
ptxas = getattr(config, "gatec_ptxas", "") or ""
if not ptxas or ptxas.endswith("NOTFOUND") or not os.path.exists(ptxas):
    ptxas = shutil.which("ptxas") or find_tool("ptxas", ["/usr/local/cuda/bin"])
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))

nvidia_smi = shutil.which("nvidia-smi")
if nvidia_smi:
    try:
        out = subprocess.run([nvidia_smi, "-L"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30,
                             universal_newlines=True)
        if out.returncode == 0 and "GPU" in out.stdout:
            config.available_features.add("cuda-gpu")
    except (OSError, subprocess.SubprocessError):
        pass

# Sources and TableGen, for the docs-up-to-date check.
gatec_src = os.path.dirname(config.test_source_root)
# The Python with numpy that the Makefile sets up (GPU run tests use it).
venv_python = os.path.join(gatec_src, ".venv", "bin", "python")
config.substitutions.append(
    ("%python", venv_python if os.path.exists(venv_python) else "python3"))
config.environment["PYTHONPATH"] = os.path.join(gatec_src, "python")
config.substitutions.append(("%gatec_src", gatec_src))
config.substitutions.append(("%mlir_include", "/usr/lib/llvm-22/include"))
config.substitutions.append(("%mlir_tblgen", os.path.join(llvm_tools_dir, "mlir-tblgen")))
