"""Model builders composed from keras_suite layers."""
