// Subcommands of dirigent-cli; each returns the process exit status.
#pragma once

int dg_cli_device(int argc, char **argv);
int dg_cli_model(int argc, char **argv);
int dg_cli_world(int argc, char **argv);
int dg_cli_generate(int argc, char **argv);
int dg_cli_eval(int argc, char **argv);
