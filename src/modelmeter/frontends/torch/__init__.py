"""The PyTorch frontend (needs ``pip install 'modelmeter[torch]'``)."""
