"""`pipectl serve`: the pipeline as a local web app, a front end over the same core as the CLI.

Every page is read through the kernel and the wings, every change is an operation of
`pipectl.ops` (one commit each, the CLI's message and trailers). Never imports `pipectl.cli`;
starlette and uvicorn are imported only here (the `serve` extra).
"""
