/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* What the state's writer (state_encode.c) and reader (state_decode.c)
 * share. Not a public interface. */
#ifndef HS_STATE_INTERNAL_H
#define HS_STATE_INTERNAL_H

/* The state format written; a reader takes this one and every older one
 * (docs/state.md). */
#define STATE_VERSION 1

#endif
