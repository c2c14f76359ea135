import sys

from keras_suite.cli import main

sys.exit(main())
