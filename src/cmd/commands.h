/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * keytrail's subcommands: each takes its argv (argv[0] is the verb) and returns the process exit
 * status (0, 1 for "alerts/problems found" where the command says so, 2 for an error). One file
 * each in src/cmd/; src/cmd/keytrail.c dispatches.
 */

int verb_scan(int argc, char *argv[]);
int verb_baseline(int argc, char *argv[]);
int verb_doctor(int argc, char *argv[]);
int verb_report(int argc, char *argv[]);
int verb_follow(int argc, char *argv[]);
int verb_learn(int argc, char *argv[]);
