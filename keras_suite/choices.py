"""The names a config may choose for each interchangeable part (cells, backbones, losses, ...).

They live here, apart from the parts themselves (which import TensorFlow), so that configs, `list` and
`--help` load in a fraction of a second; each part imports its names from here and checks against them.
"""

CHAR_RNN_CELLS = ("lstm", "gru", "simple_rnn")
CHAR_CELLS = (*CHAR_RNN_CELLS, "transformer")
SEQ2SEQ_CELLS = ("lstm", "gru")
YOLO_BACKBONES = ("csp", "mobilenet")
EMBEDDING_BACKBONES = ("mobilenet", "inception_resnet")
BOX_LOSSES = ("ciou", "giou")
TRIPLET_MINING = ("batch_all", "batch_hard", "semi_hard")
FACE_DETECT = ("auto", "cascade", "none")
SCENE_KINDS = ("shapes", "digits")
STYLE_OPTIMIZERS = ("adam", "lbfgs")
STYLE_CONTENT = ("astronaut", "chelsea", "coffee", "rocket", "china", "flower", "cat", "retina",
                 "immunohistochemistry")
TOKEN_LEVELS = ("char", "word", "subword")
ATTENTION_SCORES = ("bahdanau", "luong")
POSITIONAL_ENCODINGS = ("sinusoidal", "learned")
WORD_EMBEDDINGS = ("skipgram", "cbow", "glove")
ANALOGY_METHODS = ("add", "mul")
CAPTION_ENCODERS = ("conv", "mobilenet_v2")
CAPTION_DECODERS = ("rnn", "transformer")
AUTOENCODER_KINDS = ("undercomplete", "sparse", "denoising", "variational")
UPSAMPLING = ("transpose", "resize")
SPARSITY = ("l1", "kl")
NOISE_KINDS = ("gaussian", "salt_pepper", "masking")
