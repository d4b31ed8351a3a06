"""Runs an anchor script (keras_fmnist.py / torch_fmnist.py) on the first N training images only,
so that its epochs stay short on a shared machine; inference still runs over the 10,000 test images.

    python docs/anchor_subset.py 6400 ../shared/anchors/keras_fmnist.py 2 cnn

The scripts read the IDX files with numpy.frombuffer at import; this truncates the 60,000-image
training arrays (header offsets 16 and 8) to N before the script sees them. Samples/s are
computed by the scripts themselves from len(x_train), so they stay correct.
"""
import runpy, sys
import numpy as np

count, script = int(sys.argv[1]), sys.argv[2]
original = np.frombuffer

def truncated(buffer, dtype=float, count_=-1, offset=0, **kwargs):
    array = original(buffer, dtype, count_, offset, **kwargs)
    if offset == 16 and array.size == 60000 * 784:
        return array[: count * 784]
    if offset == 8 and array.size == 60000:
        return array[:count]
    return array

np.frombuffer = truncated
sys.argv = [script] + sys.argv[3:]
runpy.run_path(script, run_name="__main__")
