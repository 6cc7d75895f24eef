"""Writes the small example files of the README's tour (run from this folder; standard library
only): regression.csv, model.txt, images.npy. iris.csv is scikit-learn's export of Fisher's iris,
and rbm_arrays/ a machine trained by `thermolab rbm train` (see README.md here)."""
import random
import struct

# regression.csv: y = 1.5 a - 0.8 b + 0.3 + 0.5 eps, 100 rows.
random.seed(20261201)
with open('regression.csv', 'w') as f:
    f.write('a,b,y\n')
    for _ in range(100):
        a = random.gauss(0, 1)
        b = random.gauss(0, 1)
        y = 1.5 * a - 0.8 * b + 0.3 + 0.5 * random.gauss(0, 1)
        f.write(f'{a:.6f},{b:.6f},{y:.6f}\n')

# model.txt: a 12-spin ring with random ±1 couplings, four chords and two fields.
random.seed(7)
lines = ['# A 12-spin ring with random ±1 couplings, four chords and two fields: a small spin glass',
         '# (one term per line, `i j value`, 0-based; `i i h` is a field). See docs/FILES.md.']
n = 12
for i in range(n):
    lines.append(f'{i} {(i + 1) % n} {random.choice([-1.0, 1.0])}')
for i, j in [(0, 6), (2, 8), (3, 9), (5, 11)]:
    lines.append(f'{i} {j} {random.choice([-0.5, 0.5])}')
lines += ['0 0 0.3', '7 7 -0.2']
with open('model.txt', 'w') as f:
    f.write('\n'.join(lines) + '\n')

# images.npy: the first 300 built-in digits scaled to [0, 1], float64, 300 x 64.
rows = []
with open('../../crates/thermolab/data/digits.csv') as f:
    f.readline()
    for k, line in enumerate(f):
        if k >= 300:
            break
        rows.append([float(x) / 16.0 for x in line.strip().split(',')[:64]])
header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (len(rows), 64)
header += ' ' * (64 - (10 + len(header) + 1) % 64) + '\n'
with open('images.npy', 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00')
    f.write(struct.pack('<H', len(header)))
    f.write(header.encode('latin1'))
    for r in rows:
        f.write(struct.pack('<64d', *r))
