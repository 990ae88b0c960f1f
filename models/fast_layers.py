"""A faster CPU form of the Omniglot generator's last convolution: the same variables, the
same function and gradients up to float rounding.

That layer is a "same" `Conv2D` from 128 channels to one (7x7). TensorFlow's oneDNN
convolution vectorizes over output channels, so with one of them it runs at about
7 GFLOP/s, forward and for the kernel's gradient alike (a 1.3 GFLOP layer: about 170 ms
forward for 128 images, 250 ms for the kernel's gradient), while a matrix product of the
same size runs at full speed.

(The stride-2 `Conv2DTranspose` layers were tried as sub-pixel convolutions too, a
stride-1 convolution to 4x the channels and `depth_to_space`: 1.2x slower forward and 2x
slower with gradients than oneDNN's own, which already runs at full speed. They stay.)
"""
import tensorflow as tf
from tensorflow.keras import layers


class Conv2D(layers.Conv2D):
    """`keras.layers.Conv2D(filters, k, padding="same")` for few filters, computed as

    1. one matrix product: for every pixel, kernel tap (i, j) and filter, the tap's weights
       times the pixel's channels (k * k * filters numbers per pixel), then
    2. for every output pixel, the sum over taps (i, j) of the products at the pixel the
       tap reads, (y + i - top, x + j - left), zero outside the image.

    That is the convolution's own sum in another order. The class keeps Keras's name
    ("conv2d"), variables and `call` (bias, activation); only the convolution differs.
    """

    def __init__(self, filters, kernel_size, padding="same", **kwargs):
        super().__init__(filters, kernel_size, padding=padding, **kwargs)
        if (self.strides, self.dilation_rate, self.padding, self.data_format, self.groups) != (
                (1, 1), (1, 1), "same", "channels_last", 1):
            raise ValueError("fast_layers.Conv2D is written for stride 1, 'same' padding, "
                             "channels_last.")

    def convolution_op(self, inputs, kernel):
        kh, kw, channels, filters = kernel.shape
        n, height, width = tf.unstack(tf.shape(inputs)[:3])
        # taps[i, j, f] is an image: what tap (i, j) of filter f takes from each pixel. Taps
        # outermost, so that the shifted sum below slices whole images.
        per_tap = tf.reshape(tf.transpose(kernel, [0, 1, 3, 2]), [-1, channels])
        taps = tf.matmul(per_tap, tf.reshape(inputs, [-1, channels]), transpose_b=True)
        taps = tf.reshape(taps, [kh, kw, filters, n, height, width])
        return tf.transpose(shifted_sum(taps), [1, 2, 3, 0])  # (n, height, width, filters)


def shifted_sum(taps):
    """out[..., y, x] = sum over (i, j) of taps[i, j, ..., y + i - top, x + j - left], zero
    outside the image, where top = (kh - 1) // 2 and left = (kw - 1) // 2: the padding of
    TensorFlow's "same" convolution with a kh x kw kernel.

    The gradient is written out: autodiff through the kh * kw slices would pad each
    slice's gradient to the size of all taps and add the kh * kw of them.
    """
    kh, kw = taps.shape[:2]
    top, left = (kh - 1) // 2, (kw - 1) // 2
    height, width = tf.shape(taps)[-2], tf.shape(taps)[-1]
    unpadded = [[0, 0]] * (taps.shape.rank - 4)  # the axes between (i, j) and (y, x)

    @tf.custom_gradient
    def forward(taps):
        padded = tf.pad(taps, [[0, 0], [0, 0], *unpadded,
                               [top, kh - 1 - top], [left, kw - 1 - left]])
        out = tf.add_n([padded[i, j, ..., i:i + height, j:j + width]
                        for i in range(kh) for j in range(kw)])

        def backward(upstream):
            # Tap (i, j) at (u, v) went into out[u - i + top, v - j + left]: its gradient
            # is the upstream gradient shifted the other way, zero outside the image.
            padded = tf.pad(upstream, [*unpadded, [kh - 1 - top, top], [kw - 1 - left, left]])
            shifted = [padded[..., kh - 1 - i:kh - 1 - i + height, kw - 1 - j:kw - 1 - j + width]
                       for i in range(kh) for j in range(kw)]
            return tf.reshape(tf.stack(shifted), tf.shape(taps))

        return out, backward

    return forward(taps)
