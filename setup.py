"""Semi-supervised meta-learning on top of LASIUM (TensorFlow/Keras)."""
from setuptools import setup

setup(
    name="ssml-lasium",
    version="0.1.0",
    description="Semi-supervised meta-learning with LASIUM GAN-generated tasks",
    python_requires=">=3.9,<3.12",
    packages=["infra", "databases", "tasks", "meta", "models", "run_scripts"],
    install_requires=[
        # tensorflow-addons only imports on TensorFlow <= 2.15, hence these pins.
        "tensorflow==2.15.1",
        "keras==2.15.0",
        "tensorflow-addons==0.23.0",
        "tensorflow-datasets==4.9.10",
        # Without this pin pip picks 1.21, which breaks `import tensorflow_datasets`.
        "tensorflow-metadata==1.17.3",
        "tensorboard==2.15.2",
        "absl-py>=2.0",
        "numpy<2",
        "protobuf==4.25.9",
        "matplotlib",
        # The sweep's --engine=submitit (run_scripts/sweep.py, meta/sweep_engines.py).
        "submitit==1.5.4",
    ],
    extras_require={
        "test": ["pytest"],
        "gpu": ["tensorflow[and-cuda]==2.15.1"],
    },
)
