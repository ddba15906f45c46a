"""dispatch: transcribe dispatch radio recordings and check published quotes against them."""

import warnings

__version__ = "0.1.0"

# webrtcvad (under resemblyzer) imports pkg_resources, which warns on every run that it is
# deprecated: noise to a user, and nothing this package can act on.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning,
                        module="webrtcvad")
