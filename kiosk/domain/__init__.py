"""The domain core: values and rules with no UI, device, storage or network imports."""
