"""API keys, as one unit: the table (`models`), reading and caching identities
(`selectors`), creating and revoking keys (`services`, and the `create_api_key` /
`revoke_api_key` commands), and the DRF authentication that uses them
(`authentication`). Django app label: `apikeys`."""
