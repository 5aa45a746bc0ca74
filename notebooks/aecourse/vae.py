"""The variational autoencoder machinery shared by notebooks 03-05: the Sampling layer, the two loss
terms in nats, and a Model that trains on -ELBO and reports its parts. Notebook 03 derives and shows
this code; the encoders and decoders stay in each notebook."""

from __future__ import annotations

import keras
from keras import layers, ops


class Sampling(layers.Layer):
    """z = mu + sigma * epsilon with epsilon ~ N(0, I): a sample of Q(z|x) that gradients flow through."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def reconstruction_nats(images, reconstructions):
    """-log P(x|z) for independent Bernoulli pixels: binary cross-entropy summed over all pixels."""
    pixel_losses = ops.binary_crossentropy(images, reconstructions)
    return ops.sum(ops.reshape(pixel_losses, (ops.shape(pixel_losses)[0], -1)), axis=1)


def kl_divergence(z_mean, z_log_var):
    """KL[N(mu, diag(sigma^2)) || N(0, I)] in closed form, one value per image (nats)."""
    z_mean, z_log_var = ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)  # NumPy arrays too
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


class VAE(keras.Model):
    """Encoder -> Sampling -> decoder, trained on reconstruction + beta * KL (nats per image).

    fit() and evaluate() report "reconstruction", "kl" and "neg_elbo" (their sum) besides "loss",
    which differs from -ELBO only when beta != 1.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, beta: float = 1.0,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.beta = encoder, decoder, beta
        self.sampling = Sampling(seed=seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.neg_elbo_tracker = keras.metrics.Mean(name="neg_elbo")

    def build(self, input_shape):
        # The encoder and decoder arrive built, and Sampling has no weights: nothing left to create.
        self.sampling.build(self.encoder.output[0].shape)
        self.built = True

    def call(self, images):
        z_mean, z_log_var = self.encoder(images)
        z = self.sampling([z_mean, z_log_var])
        return {"reconstruction": self.decoder(z), "z_mean": z_mean, "z_log_var": z_log_var}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        reconstruction = reconstruction_nats(x, y_pred["reconstruction"])
        kl = kl_divergence(y_pred["z_mean"], y_pred["z_log_var"])
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.neg_elbo_tracker.update_state(reconstruction + kl)
        return ops.mean(reconstruction + self.beta * kl)
