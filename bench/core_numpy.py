"""NumPy side of `npm run bench:core` (bench/core-bench.ts): the same computations on the same data.

    python3 bench/core_numpy.py --x X.npy --y Y.npy --idx IDX.npy [--repeats 3]

Prints one JSON object: times in milliseconds (every repeat), the results' checksums, and the
BLAS NumPy runs on (library, core type, threads) so that ratios can be read fairly. The caller
starts it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from the environment (they pin an
older, slower kernel on this machine).
"""
import argparse
import ctypes
import json
import os
import time

import numpy as np


def blas_info():
    info = {'numpy': np.__version__}
    try:
        from threadpoolctl import threadpool_info  # optional

        pools = [p for p in threadpool_info() if p.get('user_api') == 'blas']
        if pools:
            p = pools[0]
            info.update(source='threadpoolctl', library=p.get('internal_api'), version=p.get('version'),
                        threads=p.get('num_threads'), core=p.get('architecture'))
            return info
    except ImportError:
        pass
    # Without threadpoolctl: ask the loaded OpenBLAS itself (its exported C functions).
    info['source'] = 'ctypes'
    try:
        config = np.show_config(mode='dicts')
        blas = config.get('Build Dependencies', {}).get('blas', {})
        info['library'] = blas.get('name')
        info['version'] = blas.get('version')
    except Exception:  # older NumPy without mode='dicts'
        pass
    with open('/proc/self/maps') as f:
        paths = sorted({line.split()[-1] for line in f if 'openblas' in line.lower() and '.so' in line})
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ('scipy_openblas_', 'openblas_', ''):
            for suffix in ('64_', ''):
                core = getattr(lib, f'{prefix}get_corename{suffix}', None) if prefix else getattr(lib, f'openblas_get_corename{suffix}', None)
                threads = getattr(lib, f'{prefix}get_num_threads{suffix}', None) if prefix else getattr(lib, f'openblas_get_num_threads{suffix}', None)
                if core is not None and threads is not None:
                    core.restype = ctypes.c_char_p
                    info.update(library_path=path, core=core().decode(), threads=int(threads()))
                    return info
    info['threads'] = os.environ.get('OPENBLAS_NUM_THREADS') or os.cpu_count()
    return info


def timed(fn, repeats):
    # Wall time and CPU time of the process (every BLAS thread included) per repeat.
    times = []
    cpu = []
    result = None
    for _ in range(repeats):
        c0 = time.process_time()
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return times, cpu, result


def relative_cosine(x, idx):
    # Rows scaled to unit norm, anchors are rows of the scaled X, one product, clipped to [-1, 1].
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    anchors = xn[idx]
    return np.clip(xn @ anchors.T, -1.0, 1.0)


def linear_cka(x, y):
    # Biased linear CKA in feature space (Kornblith et al. 2019): float32 products, float64 norms.
    xc = x - x.mean(axis=0, dtype=np.float64).astype(np.float32)
    yc = y - y.mean(axis=0, dtype=np.float64).astype(np.float32)
    xy = np.linalg.norm((xc.T @ yc).astype(np.float64))
    xx = np.linalg.norm((xc.T @ xc).astype(np.float64))
    yy = np.linalg.norm((yc.T @ yc).astype(np.float64))
    return xy * xy / (xx * yy)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--x', required=True)
    parser.add_argument('--y', required=True)
    parser.add_argument('--idx', required=True)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    x = np.load(args.x)
    y = np.load(args.y)
    idx = np.load(args.idx)
    rel_times, rel_cpu, r = timed(lambda: relative_cosine(x, idx), args.repeats)
    cka_times, cka_cpu, cka = timed(lambda: linear_cka(x, y), args.repeats)
    print(json.dumps({
        'blas': blas_info(),
        'relative_ms': rel_times,
        'relative_cpu_ms': rel_cpu,
        'relative_checksum': float(np.asarray(r, dtype=np.float64).sum()),
        'relative_dtype': str(r.dtype),
        'cka_ms': cka_times,
        'cka_cpu_ms': cka_cpu,
        'cka': float(cka),
    }))


if __name__ == '__main__':
    main()
