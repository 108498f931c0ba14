# src/ssh: sources, tests and data of this layer (included by Makefile.am).
