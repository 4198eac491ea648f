#!/usr/bin/python3
"""peers.py: what other checkpoint formats cost on the bytes bundle_bench uses.

Times torch.save / torch.load, np.savez / np.load and h5py write / read on the
exact tensors of a bundle_bench run, in the same run, and prints one JSON
object on stdout for bundle_bench to put beside its own figures. Optional:
each library that is not installed is reported as missing, never fatal.

  /usr/bin/python3 bench/peers.py --dir DIR --raw RAWFILE --sizes SIZESFILE
                                  [--reps N] [--tiny N] [--sync]
  /usr/bin/python3 bench/peers.py --selftest [--dir DIR]

RAWFILE holds every tensor's float32 values (host byte order), back to back;
SIZESFILE has one element count per line, in the same order, summing to
RAWFILE's size / 4. Tensor i is named model/layer_<i:04>/weights, as in
bundle_bench.

It must run under Debian's interpreter (/usr/bin/python3): python3-torch,
python3-numpy and python3-h5py are Debian packages, invisible to any other
Python on PATH.

Method (like bundle_bench, so that figures compare like with like):
  - The tensors are read into separate numpy arrays (torch.from_numpy views of
    them for torch) before any clock starts.
  - Every figure is the best of --reps; every save writes a fresh file.
  - The page cache stays warm: loads read the file the last save wrote.
  - "save" stops the clock when the library returns; with --sync a second
    figure, "save_sync", also includes an fsync() of the file, as
    BundleWriter syncs its files before it returns.
  - A load must materialize every tensor: np.load is lazy, so each member is
    read; h5py datasets are read into memory.
  - GB/s = 1e9 bytes/s of tensor payload (not of file size).
  - After the timed part, the last load is compared bit for bit with the
    source, so a figure can never come from loading nothing; a mismatch makes
    the exit status 1.
  - Whether a loader verifies checksums is measured, not assumed: a small
    file is written, one payload byte is flipped, and the loader either
    raises or returns the altered value.

--tiny N also times N tensors of 16 floats: save and load rates in tensors/s
and the time to list the names in such a file. Any of those that would take
more than ~60 s is stopped there and reported as skipped, with an estimate
of its cost where the loop's progress is known. (Estimating from a smaller
trial fails: np.load's cost per member grows with the member count.) Further
repetitions run only while they fit in the same 60 s.

--selftest makes its own small inputs, runs every mode (including --sync and
--tiny) through the same code and exits 1 unless every loaded tensor equals
the saved one.

Output (one JSON object on stdout):
  {"python": "3.11.2",
   "versions": {"torch": "1.13.0a0", "numpy": "1.24.2", "h5py": "3.7.0",
                "hdf5": "1.10.8"},          # null for a library not installed
   "bytes": <payload bytes>, "tensors": <count>, "reps": N, "sync": bool,
   "results": [                              # per library: save, [save_sync,] load
     {"peer": "torch.save", "library": "torch", "what": "save",
      "gbps": 1.25, "seconds": 0.86, "file_bytes": ...,
      "verifies_checksums": false, "note": "..."},
     {"peer": "torch.load", ..., "what": "load", "verified_equal": true, ...},
     {"peer": "h5py", ..., "missing": "python3-h5py"},   # not installed
     {"peer": "np.savez", ..., "what": "error", "error": "..."}],  # it failed
   "tiny": {"tensors": N, "floats_per_tensor": 16,          # with --tiny only
            "results": [{"peer": ..., "what": "save"|"save_sync"|"load",
                         "tensors_per_s": ..., "seconds": ..., "reps": k},
                        {"peer": ..., "what": "list", "seconds": ..., "note": ...},
                        {"peer": ..., "what": ..., "skipped": true,
                         "estimated_seconds": ..., "note": ...}]}}
Peers are "torch.save"/"torch.load", "np.savez"/"np.load" and "h5py" (both
ways); "seconds" is the best repetition.

Every file the script writes goes into a fresh directory under DIR, which is
removed on exit, also on error or SIGTERM.

Exit status: 0 on success, 1 if a peer failed or loaded wrong data, 2 for bad
arguments or inputs.
"""

import argparse
import gc
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time

try:
    import numpy as np
except ImportError:
    np = None
try:
    import torch
except ImportError:
    torch = None
try:
    import h5py
except ImportError:
    h5py = None

TINY_FLOATS = 16
# A tiny-tensor operation still running after this long is stopped and skipped.
TINY_CAP_SECONDS = 60.0
# Tensors handled so far by the running operation, where a loop of ours can
# count them: it turns a timeout into an estimate of the full cost.
PROGRESS = [0]


class Overtime(Exception):
    """An operation ran past its deadline."""


class deadline:
    """Raises Overtime in the block after `seconds` (checked between bytecodes,
    so a long call inside a C library ends first)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def _fire(self, *_):
        raise Overtime()

    def __enter__(self):
        self.old = signal.signal(signal.SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)
        return False


class InputError(Exception):
    """A bad argument or input file: exit status 2."""


def tensor_name(i):
    return "model/layer_%04d/weights" % i


def tiny_name(i):
    return "tiny/tensor_%06d" % i


# ---------------------------------------------------------------------------
# The peers. Each one is a library with save(path, names, arrays) and
# load(path) -> {name: numpy array} (materialized), plus list(path) -> names.


class Peer:
    library = ""       # import name
    package = ""       # the Debian package that provides it
    save_label = ""    # "peer" field of a save result
    load_label = ""    # "peer" field of a load result
    suffix = ""

    def available(self):
        raise NotImplementedError

    def version(self):
        raise NotImplementedError


class TorchPeer(Peer):
    library, package = "torch", "python3-torch"
    save_label, load_label = "torch.save", "torch.load"
    suffix = ".pt"

    def available(self):
        return torch is not None

    def version(self):
        return torch.__version__

    def prepare(self, names, arrays):
        # from_numpy shares memory: the bytes saved are exactly the arrays'.
        return {n: torch.from_numpy(a) for n, a in zip(names, arrays)}

    def save(self, path, prepared):
        torch.save(prepared, path)

    def load(self, path):
        return {n: t.numpy() for n, t in torch.load(path).items()}

    def list(self, path):
        return list(torch.load(path).keys())


class NumpyPeer(Peer):
    library, package = "numpy", "python3-numpy"
    save_label, load_label = "np.savez", "np.load"
    suffix = ".npz"

    def available(self):
        return np is not None

    def version(self):
        return np.__version__

    def prepare(self, names, arrays):
        return dict(zip(names, arrays))

    def save(self, path, prepared):
        np.savez(path, **prepared)  # uncompressed, as np.savez always is

    def load(self, path):
        out = {}
        with np.load(path) as z:
            for n in z.files:
                out[n] = z[n]  # reads the whole member
                PROGRESS[0] += 1
        return out

    def list(self, path):
        with np.load(path) as z:
            return list(z.files)


class H5pyPeer(Peer):
    library, package = "h5py", "python3-h5py"
    save_label, load_label = "h5py", "h5py"
    suffix = ".h5"

    def available(self):
        return h5py is not None

    def version(self):
        return h5py.__version__

    def prepare(self, names, arrays):
        return dict(zip(names, arrays))

    def save(self, path, prepared):
        # Contiguous layout, no compression, no fletcher32: the defaults.
        with h5py.File(path, "w") as f:
            for n, a in prepared.items():
                f.create_dataset(n, data=a)
                PROGRESS[0] += 1

    def load(self, path):
        out = {}
        with h5py.File(path, "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    out[name] = obj[()]
                    PROGRESS[0] += 1
            f.visititems(visit)
        return out

    def list(self, path):
        names = []
        with h5py.File(path, "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    names.append(name)
                    PROGRESS[0] += 1
            f.visititems(visit)
        return names


PEERS = [TorchPeer(), NumpyPeer(), H5pyPeer()]


# ---------------------------------------------------------------------------
# Helpers.


def fsync_path(path):
    # The libraries close their files before returning; an fsync through a new
    # descriptor still flushes every dirty page of the file (it is per inode).
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def timed(fn):
    gc.collect()  # so a collection of an earlier rep's garbage is not timed
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def time_save(peer, path, prepared, reps, sync):
    best = None
    for _ in range(reps):
        remove(path)  # a fresh file every time, as bundle_bench's are

        def op():
            peer.save(path, prepared)
            if sync:
                fsync_path(path)
        t, _ = timed(op)
        best = t if best is None else min(best, t)
    return best


def time_load(peer, path, reps):
    best, last = None, None
    for _ in range(reps):
        last = None  # free the previous copy before loading the next
        t, last = timed(lambda: peer.load(path))
        best = t if best is None else min(best, t)
    return best, last


def compare(names, arrays, loaded):
    """None if `loaded` holds exactly `arrays` under `names`, else what differs."""
    if len(loaded) != len(names):
        return "loaded %d tensors, saved %d" % (len(loaded), len(names))
    for n, a in zip(names, arrays):
        b = loaded.get(n)
        if b is None:
            return "tensor %s was not loaded" % n
        if b.dtype != a.dtype or b.shape != a.shape:
            return "tensor %s: loaded %s%s, saved %s%s" % (
                n, b.dtype, b.shape, a.dtype, a.shape)
        # Bitwise, so that NaN payloads compare equal to themselves.
        if not np.array_equal(np.ascontiguousarray(b).view(np.uint8),
                              a.view(np.uint8)):
            return "tensor %s: loaded values differ from the saved ones" % n
    return None


def rounded(x, digits=4):
    return float("%.*g" % (digits, x))


def probe_checksums(peer, workdir):
    """Flips one payload byte of a small saved file and loads it.

    Returns (verifies, how): True if the loader raised, False if it returned
    the altered value, None if the flip could not be placed or had no effect.
    """
    path = os.path.join(workdir, "probe" + peer.suffix)
    # A pattern that cannot occur by chance elsewhere in the file.
    a = np.arange(4096, dtype=np.float32) * np.float32(1.25) + np.float32(7.5)
    try:
        peer.save(path, peer.prepare(["probe/weights"], [a]))
        with open(path, "r+b") as f:
            data = f.read()
            at = data.find(a.tobytes())
            if at < 0 or data.find(a.tobytes(), at + 1) >= 0:
                return None, "payload not found once in the file"
            f.seek(at + 4 * 2048 + 1)
            f.write(bytes([data[at + 4 * 2048 + 1] ^ 0x40]))
        try:
            got = peer.load(path)
        except Exception as e:  # the loader noticed
            return True, "a flipped payload byte raised %s" % type(e).__name__
        b = got.get("probe/weights")
        if b is not None and not np.array_equal(b.view(np.uint8), a.view(np.uint8)):
            return False, "a flipped payload byte loaded silently"
        return None, "the flipped byte did not reach the loaded tensor"
    finally:
        remove(path)


# ---------------------------------------------------------------------------
# The two workloads.


def read_inputs(raw_path, sizes_path):
    try:
        with open(sizes_path) as f:
            sizes = []
            for lineno, line in enumerate(f, 1):
                s = line.strip()
                if not s:
                    continue
                try:
                    n = int(s)
                except ValueError:
                    raise InputError("%s:%d: %r is not an element count"
                                     % (sizes_path, lineno, s))
                if n < 0:
                    raise InputError("%s:%d: negative element count %d"
                                     % (sizes_path, lineno, n))
                sizes.append(n)
        raw_bytes = os.path.getsize(raw_path)
    except OSError as e:
        raise InputError(str(e))
    if not sizes:
        raise InputError("%s lists no tensor" % sizes_path)
    if sum(sizes) * 4 != raw_bytes:
        raise InputError("%s sums to %d float32 (%d bytes) but %s has %d bytes"
                         % (sizes_path, sum(sizes), sum(sizes) * 4, raw_path, raw_bytes))
    arrays = []
    # One read per tensor into its own array: the exact bytes of RAWFILE, in
    # separate allocations as bundle_bench's tensors are, without ever
    # holding two copies of the whole file.
    with open(raw_path, "rb") as f:
        for n in sizes:
            a = np.fromfile(f, dtype=np.float32, count=n)
            if a.size != n:
                raise InputError("%s ended early" % raw_path)
            arrays.append(a)
    return [tensor_name(i) for i in range(len(sizes))], arrays


def run_bulk(peer, names, arrays, nbytes, workdir, reps, sync):
    """The 1 GiB-style figures of one peer: a list of result dicts."""
    lib = peer.library
    if not peer.available():
        out = [{"peer": peer.save_label, "library": lib, "what": "save",
                "missing": peer.package}]
        if sync:
            out.append({"peer": peer.save_label, "library": lib,
                        "what": "save_sync", "missing": peer.package})
        out.append({"peer": peer.load_label, "library": lib, "what": "load",
                    "missing": peer.package})
        return out, True

    path = os.path.join(workdir, "bulk" + peer.suffix)
    ok = True
    results = []
    try:
        verifies, how = probe_checksums(peer, workdir)
        # Every result says whether a load of this peer's file checks its data.
        why = _CHECKSUM_NOTES.get((lib, verifies))
        checks = {"verifies_checksums": "unverified" if verifies is None else verifies,
                  "note": how + ("; " + why if why else "")}
        prepared = peer.prepare(names, arrays)
        modes = [("save", False)] + ([("save_sync", True)] if sync else [])
        for what, with_sync in modes:
            t = time_save(peer, path, prepared, reps, with_sync)
            results.append(dict({"peer": peer.save_label, "library": lib, "what": what,
                                 "gbps": rounded(nbytes / t / 1e9), "seconds": rounded(t),
                                 "file_bytes": os.path.getsize(path)}, **checks))
        prepared = None
        t, loaded = time_load(peer, path, reps)
        mismatch = compare(names, arrays, loaded)
        loaded = None
        r = dict({"peer": peer.load_label, "library": lib, "what": "load",
                  "gbps": rounded(nbytes / t / 1e9), "seconds": rounded(t),
                  "verified_equal": mismatch is None}, **checks)
        if mismatch is not None:
            r["error"] = mismatch
            ok = False
        results.append(r)
    except Exception as e:
        results.append({"peer": peer.save_label, "library": lib, "what": "error",
                        "error": "%s: %s" % (type(e).__name__, e)})
        ok = False
    finally:
        remove(path)
    return results, ok


# Why, for the outcomes the probe finds with Debian 12's packages.
_CHECKSUM_NOTES = {
    ("torch", False): ("the zip records carry CRC32s, but PyTorch builds miniz with "
                       "MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS (pytorch/pytorch#28858, "
                       "#126952)"),
    ("numpy", True): ("np.load reads each member through zipfile, which checks the "
                      "member's CRC32 when a read reaches the member's end"),
    ("h5py", False): "HDF5 checks data only with the fletcher32 filter, not used here",
}


def capped(fn, reps, n):
    """Runs fn() -> (seconds, result) up to `reps` times within the tiny cap.

    Returns (best seconds, result of the last complete run, runs completed,
    whether a later run was cut short: then whatever it was writing is
    incomplete). Raises Overtime carrying an estimate of one run's cost (or
    None) if not even one run fits in the cap.
    """
    start = time.perf_counter()
    best, kept, done = None, None, 0
    try:
        with deadline(TINY_CAP_SECONDS):
            while done < reps:
                PROGRESS[0] = 0
                t, result = fn()
                kept = result
                best = t if best is None else min(best, t)
                done += 1
                # Start another run only if it should fit, with a margin.
                if time.perf_counter() - start + 1.5 * best > TINY_CAP_SECONDS:
                    break
    except Overtime:
        if done == 0:
            elapsed = time.perf_counter() - start
            raise Overtime(elapsed * n / PROGRESS[0] if PROGRESS[0] else None)
        return best, kept, done, True
    return best, kept, done, False


def run_tiny(peer, n, workdir, reps, sync):
    lib = peer.library
    whats = ["save"] + (["save_sync"] if sync else []) + ["load", "list"]
    labels = {"save": peer.save_label, "save_sync": peer.save_label,
              "load": peer.load_label, "list": peer.load_label}
    if not peer.available():
        return [{"peer": labels[w], "library": lib, "what": w,
                 "missing": peer.package} for w in whats], True

    names = [tiny_name(i) for i in range(n)]
    # Distinct contents per tensor, so that a mix-up shows in the comparison.
    block = np.arange(n * TINY_FLOATS, dtype=np.float32).reshape(n, TINY_FLOATS)
    arrays = [block[i].copy() for i in range(n)]
    del block
    path = os.path.join(workdir, "tiny" + peer.suffix)
    results = []
    ok = True
    try:
        prepared = peer.prepare(names, arrays)
        save_overran = False
        for what in whats:
            r = {"peer": labels[what], "library": lib, "what": what}
            if what in ("save", "save_sync"):
                def fn(sync_it=(what == "save_sync")):
                    return time_save(peer, path, prepared, 1, sync_it), os.path.getsize(path)
            elif what == "load":
                def fn():
                    return timed(lambda: peer.load(path))
            else:
                def fn():
                    return timed(lambda: peer.list(path))
            if what in ("load", "list") and not os.path.exists(path):
                if save_overran:
                    # Writing the file untimed would take as long again.
                    r.update({"skipped": True, "note": "no file: saving did not "
                              "finish within %g s" % TINY_CAP_SECONDS})
                    results.append(r)
                    continue
                peer.save(path, prepared)  # a save was skipped: not timed
            try:
                t, last, k, cut = capped(fn, reps, n)
            except Overtime as e:
                remove(path)  # possibly half written
                save_overran = save_overran or what.startswith("save")
                r.update({"skipped": True, "note": "did not finish within %g s"
                          % TINY_CAP_SECONDS})
                if e.args and e.args[0] is not None:
                    r["estimated_seconds"] = rounded(e.args[0], 3)
                    r["note"] += ("; estimate: the part done by then, "
                                  "extrapolated linearly")
                if _TINY_NOTES.get((lib, what)):
                    r["note"] += "; " + _TINY_NOTES[(lib, what)]
                results.append(r)
                continue
            if what != "list":
                r["tensors_per_s"] = rounded(n / t)
            r.update({"seconds": rounded(t), "reps": k})
            if what in ("save", "save_sync"):
                r["file_bytes"] = last
                if cut:
                    remove(path)  # half written: the load saves it anew
            elif what == "load":
                mismatch = compare(names, arrays, last)
                r["verified_equal"] = mismatch is None
                if mismatch is not None:
                    r["error"] = mismatch
                    ok = False
            else:
                if sorted(last) != names:  # zero-padded names: sorted order
                    r["error"] = "listed %d names, not the %d saved" % (len(last), n)
                    ok = False
            note = _TINY_NOTES.get((lib, what))
            if note:
                r["note"] = note
            last = None
            results.append(r)
    except Exception as e:
        results.append({"peer": peer.save_label, "library": lib, "what": "error",
                        "error": "%s: %s" % (type(e).__name__, e)})
        ok = False
    finally:
        remove(path)
    return results, ok


_TINY_NOTES = {
    ("torch", "list"): ("torch has no lazy listing: the names live in the pickle, "
                        "so listing them is a full torch.load"),
    ("numpy", "list"): "np.load(path).files: reads only the zip's central directory",
    ("numpy", "load"): ("NpzFile finds each member by searching a Python list of "
                        "names, so reading every member costs O(n^2) in their number"),
    ("h5py", "list"): "visits every group and dataset in the file",
}


def measure(names, arrays, workdir, reps, tiny, sync):
    """Runs every peer; returns (report dict, everything-ok)."""
    nbytes = sum(a.nbytes for a in arrays)
    versions = {p.library: (p.version() if p.available() else None) for p in PEERS}
    versions["hdf5"] = h5py.version.hdf5_version if h5py is not None else None
    report = {
        "python": platform.python_version(),
        "versions": versions,
        "bytes": nbytes,
        "tensors": len(arrays),
        "reps": reps,
        "sync": sync,
        "results": [],
    }
    ok = True
    for peer in PEERS:
        r, good = run_bulk(peer, names, arrays, nbytes, workdir, reps, sync)
        report["results"] += r
        ok = ok and good
    if tiny:
        report["tiny"] = {"tensors": tiny, "floats_per_tensor": TINY_FLOATS,
                          "results": []}
        for peer in PEERS:
            r, good = run_tiny(peer, tiny, workdir, reps, sync)
            report["tiny"]["results"] += r
            ok = ok and good
    return report, ok


def selftest(workdir):
    """Small generated inputs through the same path as a real run."""
    rng = np.random.default_rng(6)
    # Sizes that include an empty tensor and one that is not a multiple of 16
    # bytes; random bits, so NaN and denormal patterns occur too.
    sizes = [0, 1, 7, 1000, 16384, 65537, 250000]
    raw = rng.integers(0, 2**32, size=sum(sizes), dtype=np.uint32)
    raw_path = os.path.join(workdir, "selftest.raw")
    sizes_path = os.path.join(workdir, "selftest.sizes")
    raw.tofile(raw_path)
    with open(sizes_path, "w") as f:
        f.write("".join("%d\n" % s for s in sizes))
    names, arrays = read_inputs(raw_path, sizes_path)
    # The comparison that guards every figure must itself catch a difference
    # (explicit checks, not assert, which python -O would drop).
    wrong = dict(zip(names, (a.copy() for a in arrays)))
    wrong[names[-1]].view(np.uint8)[123] ^= 1
    if (compare(names, arrays, wrong) is None
            or compare(names, arrays, dict(zip(names[1:], arrays[1:]))) is None
            or compare(names, arrays, dict(zip(names, arrays))) is not None):
        raise RuntimeError("compare() does not tell equal from different tensors")
    report, ok = measure(names, arrays, workdir, 2, 300, True)
    remove(raw_path)
    remove(sizes_path)
    return report, ok


def main():
    ap = argparse.ArgumentParser(
        description="Times torch, numpy and h5py checkpoints on bundle_bench's tensors.")
    ap.add_argument("--dir", help="where to write (a fresh subdirectory, removed on exit)")
    ap.add_argument("--raw", help="float32 values of every tensor, back to back")
    ap.add_argument("--sizes", help="one element count per line")
    ap.add_argument("--reps", type=int, default=3, help="best of N (default 3)")
    ap.add_argument("--tiny", type=int, default=0,
                    help="also time N tensors of 16 floats (e.g. 100000)")
    ap.add_argument("--sync", action="store_true",
                    help="also report save_sync: save plus fsync of the file")
    ap.add_argument("--selftest", action="store_true",
                    help="small generated data; exit 1 unless every load is exact")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    if args.tiny < 0:
        ap.error("--tiny must not be negative")
    if not args.selftest and not (args.dir and args.raw and args.sizes):
        ap.error("--dir, --raw and --sizes are required (unless --selftest)")

    # SIGTERM unwinds like an exception, so the cleanup below runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if np is None:
        # Nothing can be built without numpy; say so in the expected shape.
        report = {"python": platform.python_version(), "versions": {"numpy": None},
                  "results": [{"peer": p.save_label, "library": p.library,
                               "missing": "python3-numpy"} for p in PEERS]}
        print(json.dumps(report))
        return 1 if args.selftest else 0

    base = args.dir or tempfile.gettempdir()
    try:
        workdir = tempfile.mkdtemp(prefix="ckpt_peers.", dir=base)
    except OSError as e:
        print("peers.py: cannot create a directory in %s: %s" % (base, e), file=sys.stderr)
        return 2
    try:
        if args.selftest:
            report, ok = selftest(workdir)
        else:
            names, arrays = read_inputs(args.raw, args.sizes)
            report, ok = measure(names, arrays, workdir, args.reps, args.tiny, args.sync)
    except InputError as e:
        print("peers.py: %s" % e, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report, indent=1))
    if args.selftest:
        bad = [r for r in report["results"] + report["tiny"]["results"] if "error" in r]
        checked = [r for r in report["results"] + report["tiny"]["results"]
                   if r.get("verified_equal") is True]
        print("peers selftest: %d passed, %d failed" % (len(checked), len(bad)),
              file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
