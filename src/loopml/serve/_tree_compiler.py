"""LightGBM trees compiled to machine code, built once per model in a background process.

A fitted LightGBM model's text is parsed and turned into LLVM IR by ``lleaves`` (one function
per tree, one branch per split, categorical splits as bitset tests, the objective's link
function at the end), optimized and compiled for this machine's CPU by ``llvmlite``. No C
compiler is needed. The result is an object file holding one function::

    void forest_root(const double *rows, double *out, int32 start, int32 end)

which scores rows ``start..end`` of a row-major float64 matrix of the model's features into
``out`` (``n_classes`` values a row), as ``Booster.predict`` would, and two constants giving
the row's width and the outputs a row gets.
:mod:`loopml.serve._compiled_trees` loads it and checks it against LightGBM on every load.

The trees are grouped into blocks of :data:`TREES_PER_BLOCK`, each block a function of its own
that loops over the rows with its trees inlined: the rows stay in cache while a block's code
does too, and the optimizer and code generator work on small functions. Measured on the batch
benchmark's 300-tree model (one core): one function for the whole forest scores 410k rows/s
but takes 40 s to build; blocks of 10 trees score as fast and build in 9 s; no inlining builds
in 4 s and scores 290k rows/s.

Building takes seconds, so it never blocks a job: :func:`start_build` starts a detached
process running this file and returns at once; the object appears at :func:`library_path`
when it is done (behind a checksum, written under a temporary name and renamed into place, so
a reader never links half a file) and serves every later job and process. Objects live in a
cache folder keyed by the model's text, the versions of the tools and the CPU, so a changed
model or another machine never reads a stale one: ``$LOOPML_CACHE_DIR`` or ``~/.cache/loopml``,
under ``compiled-trees``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

logger = logging.getLogger(__name__)

CACHE_ENV = "LOOPML_CACHE_DIR"
"""Overrides the cache folder (``~/.cache/loopml`` by default)."""

STALE_LOCK_SECONDS = 600.0
"""A build lock older than this is taken over whatever it says (a build takes seconds). A lock
naming a build process that no longer runs is taken over at once."""

TREES_PER_BLOCK = 10
"""Trees inlined into one block function (see the module's docstring for the measurements)."""

SPEED_LEVEL = 1
"""LLVM's optimization pipeline level: 1 scores as fast as 2 or 3 here and builds faster."""

ENTRY = "forest_root"
"""The compiled function's name."""

FEATURES_SYMBOL, OUTPUTS_SYMBOL = "loopml_features", "loopml_outputs"
"""Constants in the object: the features a row has and the outputs it gets, checked on load so
an object can never read or write past the arrays it is given."""

MAGIC = b"loopml-forest/1\n"
"""The first bytes of a compiled forest's file, followed by the SHA-256 of the object code."""

FORMAT = f"blocks-{TREES_PER_BLOCK}/O{SPEED_LEVEL}/large"
"""What, besides the tools' versions, decides the object's bytes (part of the cache key)."""

__all__ = [
    "CACHE_ENV",
    "ENTRY",
    "FEATURES_SYMBOL",
    "OUTPUTS_SYMBOL",
    "build_library",
    "cache_folder",
    "library_path",
    "model_text",
    "seal",
    "start_build",
    "target_machine",
    "unseal",
]


_RUN_SELF = "import runpy, sys; runpy.run_path(sys.argv.pop(1), run_name='__main__')"
"""Runs this file as a script: the build process imports only it and the compiler, not the
serving package."""


def cache_folder() -> Path:
    """Where compiled objects are kept (created on demand)."""
    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "loopml"
    return Path(root) / "compiled-trees"


def model_text(booster: Any) -> str:
    """The model's text, limited to the iterations ``Booster.predict`` uses by default."""
    best = int(getattr(booster, "best_iteration", 0) or 0)
    return str(booster.model_to_string(num_iteration=best if best > 0 else None))


def library_path(text: str) -> Path:
    """The cached object of the model with text ``text`` (it may not exist yet)."""
    digest = hashlib.sha256(f"{_toolchain()}\n{text}".encode()).hexdigest()[:32]
    return cache_folder() / f"{digest}.o"


def target_machine() -> Any:
    """A new llvmlite target machine for this CPU (its name and features), for building and
    loading. An execution engine takes ownership of the one it is given, so none is shared.

    The large code model lets the loader place code and constants anywhere in memory, so a
    forest of any size links; it costs nothing measurable here.
    """
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(),
        features=_host_features(),
        reloc="pic",
        codemodel="large",
    )


def start_build(text: str) -> bool:
    """Start building the object of ``text`` in a detached process, unless it exists, a build is
    already running, or the cache cannot be written (logged). Returns whether a build started.

    The process outlives the caller; its output goes to ``<object>.log`` beside the object.
    """
    target = library_path(text)
    if target.exists():
        return False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        lock = target.with_suffix(".lock")
        if not _take_lock(lock):
            return False
        model_file = target.with_suffix(".txt")
        model_file.write_text(text)
        arguments = [str(model_file), str(target), str(lock)]
        with open(target.with_suffix(".log"), "w") as log:
            builder = subprocess.Popen(
                [sys.executable, "-c", _RUN_SELF, __file__, *arguments],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # The lock names its builder (it may be gone already, if the build was that quick).
        with contextlib.suppress(FileNotFoundError), open(lock, "r+") as held:
            held.write(str(builder.pid))
    except OSError as exc:  # an unwritable cache, a process limit: LightGBM keeps scoring
        logger.warning("The model's trees cannot be compiled in %s: %s", target.parent, exc)
        return False
    return True


def build_library(model_file: Path, target: Path) -> Path:
    """Build ``target`` from the LightGBM model text in ``model_file`` (in this process).

    Raises:
        ValueError: the model uses an objective the code generator does not know.
        RuntimeError: LLVM rejects the generated code.
    """
    import llvmlite.binding as llvm

    machine = target_machine()
    module = llvm.parse_assembly(str(_forest_ir(model_file)))
    module.triple = llvm.get_process_triple()
    module.data_layout = str(machine.target_data)
    module.verify()
    tuning = llvm.create_pipeline_tuning_options(speed_level=SPEED_LEVEL)
    passes = llvm.create_pass_builder(machine, tuning)
    passes.getModulePassManager().run(module, passes)
    partial = target.with_name(f".{target.stem}.{os.getpid()}.o")
    try:
        partial.write_bytes(seal(machine.emit_object(module)))
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return target


def seal(code: bytes) -> bytes:
    """``code`` behind a header naming the format and holding its SHA-256 (see :func:`unseal`)."""
    return MAGIC + hashlib.sha256(code).digest() + code


def unseal(sealed: bytes) -> bytes:
    """The object code inside a file written by :func:`build_library`.

    LLVM's loader trusts the bytes it links (a truncated or foreign file would crash the
    process), so they are checked here first.

    Raises:
        ValueError: not such a file, or its bytes do not match their checksum.
    """
    digest_end = len(MAGIC) + hashlib.sha256().digest_size
    if not sealed.startswith(MAGIC) or len(sealed) <= digest_end:
        raise ValueError("it is not a compiled forest written by loopml")
    code = sealed[digest_end:]
    if hashlib.sha256(code).digest() != sealed[len(MAGIC) : digest_end]:
        raise ValueError("its bytes do not match their checksum (a truncated or altered file)")
    return code


def _forest_ir(model_file: Path) -> Any:
    """The IR module of :data:`ENTRY`: one private function per tree (lleaves' code generator)
    and per block of trees (lleaves' row loop, which adds each block's sums into ``out`` and
    applies the objective's link function after the last block)."""
    from lleaves.compiler.ast import parse_to_ast
    from lleaves.compiler.codegen import codegen
    from llvmlite import ir

    forest = parse_to_ast(str(model_file))
    forest.raw_score = False
    module = ir.Module(name="forest")
    signature = ir.FunctionType(
        ir.VoidType(), (codegen.DOUBLE_PTR, codegen.DOUBLE_PTR, codegen.INT, codegen.INT)
    )
    root = ir.Function(module, signature, name=ENTRY)

    trees = []
    for tree in forest.trees:
        arguments = [codegen.INT_CAT if f.is_categorical else codegen.DOUBLE for f in tree.features]
        function = ir.Function(module, ir.FunctionType(codegen.DOUBLE, arguments), name=str(tree))
        function.linkage = "private"
        codegen.gen_tree(tree, function, True)
        trees.append(codegen.LTree(llvm_function=function, class_id=tree.class_id))
    if forest.n_classes > 1:
        trees.sort(key=lambda t: t.class_id)  # a class's trees together, as lleaves does

    blocks = [trees[i : i + TREES_PER_BLOCK] for i in range(0, len(trees), TREES_PER_BLOCK)]
    builder = ir.IRBuilder(root.append_basic_block("entry"))
    for index, block in enumerate(blocks):
        function = ir.Function(module, signature, name=f"block_{index}")
        function.linkage = "private"
        function.attributes.add("noinline")
        setup = function.append_basic_block("setup")
        done = function.append_basic_block("done")
        ir.IRBuilder(done).ret_void()
        last = index == len(blocks) - 1
        codegen._populate_instruction_block(index, forest, function, block, setup, done, last, True)
        builder.call(function, root.args)
    builder.ret_void()
    for name, value in ((FEATURES_SYMBOL, forest.n_args), (OUTPUTS_SYMBOL, forest.n_classes)):
        shape = ir.GlobalVariable(module, codegen.INT, name=name)
        shape.initializer = ir.Constant(codegen.INT, value)
        shape.global_constant = True
    return module


@functools.cache
def _toolchain() -> str:
    """The versions, CPU and format that the object's bytes depend on."""
    import llvmlite.binding as llvm

    versions = "/".join(_version(name) for name in ("lleaves", "llvmlite", "lightgbm"))
    cpu = f"{platform.machine()}/{platform.system()}/{llvm.get_host_cpu_name()}/{_host_features()}"
    return f"{versions}\n{cpu}\n{FORMAT}"


@functools.cache
def _host_features() -> str:
    import llvmlite.binding as llvm

    try:
        return str(llvm.get_host_cpu_features().flatten())
    except RuntimeError:  # LLVM cannot read this CPU's features: target the CPU name alone
        return ""


def _take_lock(lock: Path) -> bool:
    """Create ``lock`` exclusively; a lock left by a build that died is taken over."""
    with contextlib.suppress(FileNotFoundError):
        if _stale(lock):
            lock.unlink()
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _stale(lock: Path) -> bool:
    """Whether ``lock`` is too old, or names a build process that is gone.

    Raises:
        FileNotFoundError: the lock disappeared meanwhile (its build finished).
    """
    if time.time() - lock.stat().st_mtime > STALE_LOCK_SECONDS:
        return True
    try:
        pid = int(lock.read_text().strip() or 0)
    except ValueError:  # not written by this module: let the age decide
        return False
    if pid <= 0:
        return False  # taken a moment ago; the builder's number is being written
    # psutil asks without signalling (on Windows, os.kill would end the process it asks about).
    return not psutil.pid_exists(pid)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def main(argv: list[str]) -> int:
    """``python _tree_compiler.py MODEL_TXT TARGET_O LOCK``: build at low priority."""
    model_file, target, lock = (Path(a) for a in argv)
    with contextlib.suppress(OSError, AttributeError):  # no os.nice on Windows
        os.nice(10)  # a job may be scoring on these cores right now
    try:
        build_library(model_file, target)
        return 0
    except Exception as exc:  # reported in the log; scoring simply stays with LightGBM
        print(f"loopml: building {target.name} failed: {exc}", file=sys.stderr)
        return 1
    finally:
        for leftover in (model_file, lock):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
