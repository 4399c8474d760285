/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Event encoding: the wire format the decoders read (docs/events.md). Only
 * present fields are written, in the order of the field table. */
#include "healthscore/codec.h"
#include "healthscore/time.h"

#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

static bool is_time_field(hs_field_t f) {
  return f == HS_F_DUE || f == HS_F_EXPIRES || f == HS_F_CONTRACT_START || f == HS_F_RENEWAL_DATE;
}

static int64_t time_value(const hs_event_t *ev, hs_field_t f) {
  return f == HS_F_DUE              ? ev->due_ms
         : f == HS_F_EXPIRES        ? ev->expires_ms
         : f == HS_F_CONTRACT_START ? ev->contract_start_ms
                                    : ev->renewal_ms;
}

/* Numbers: integers without a decimal point, others in the shortest form
 * that reads back to the same double. */
static int json_num(hs_buf_t *out, double v) {
  if (v == floor(v) && fabs(v) < 1e15)
    return hs_buf_printf(out, "%.0f", v);
  char tmp[32];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (strtod(tmp, NULL) == v)
      break;
  }
  return hs_buf_append(out, tmp, strlen(tmp));
}

static int json_key_str(hs_buf_t *out, const char *key, hs_str_t s) {
  int rc = hs_buf_printf(out, ",\"%s\":", key);
  return rc ? rc : hs_buf_json_str(out, s.ptr, s.len);
}

int hs_event_encode_json(const hs_event_t *ev, hs_buf_t *out) {
  char ts[32];
  hs_time_format(ev->ts_ms, ts);
  const char *type = ev->type == HS_EV_UNKNOWN ? NULL : hs_event_type_name(ev->type);
  int rc = hs_buf_append(out, "{\"event_id\":", 12);
  rc |= hs_buf_json_str(out, ev->event_id.ptr, ev->event_id.len);
  rc |= json_key_str(out, "account_id", ev->account_id);
  rc |= type ? hs_buf_printf(out, ",\"type\":\"%s\"", type)
             : json_key_str(out, "type", ev->type_name);
  rc |= hs_buf_printf(out, ",\"ts\":\"%s\"", ts);
  for (int f = 1; f < HS_F__COUNT && !rc; f++) {
    if (!(ev->present & HS_FIELD_BIT(f)))
      continue;
    double v;
    if (is_time_field((hs_field_t)f)) {
      hs_time_format(time_value(ev, (hs_field_t)f), ts);
      rc |= hs_buf_printf(out, ",\"%s\":\"%s\"", hs_field_name((hs_field_t)f), ts);
    } else if (hs_event_num(ev, (hs_field_t)f, &v)) {
      rc |= hs_buf_printf(out, ",\"%s\":", hs_field_name((hs_field_t)f));
      rc |= json_num(out, v);
    } else {
      rc |= json_key_str(out, hs_field_name((hs_field_t)f), hs_event_str(ev, (hs_field_t)f));
    }
  }
  if (ev->n_attrs) {
    rc |= hs_buf_append(out, ",\"attributes\":{", 15);
    for (uint32_t i = 0; i < ev->n_attrs; i++) {
      if (i)
        rc |= hs_buf_append(out, ",", 1);
      rc |= hs_buf_json_str(out, ev->attr_key[i].ptr, ev->attr_key[i].len);
      rc |= hs_buf_append(out, ":", 1);
      rc |= hs_buf_json_str(out, ev->attr_val[i].ptr, ev->attr_val[i].len);
    }
    rc |= hs_buf_append(out, "}", 1);
  }
  rc |= hs_buf_append(out, "}", 1);
  return rc ? HS_E_NOMEM : 0;
}

/* The packer's output: once a write fails, the later ones are refused too,
 * so that a failure in the middle cannot leave a shorter, well-formed-looking
 * message (msgpack-c's pack calls do not stop at the first failure). */
typedef struct {
  hs_buf_t *b;
  bool failed;
} pack_out_t;

static int buf_write(void *data, const char *p, size_t n) {
  pack_out_t *o = data;
  o->failed = o->failed || hs_buf_append(o->b, p, n);
  return o->failed ? -1 : 0;
}

static void pack_str(msgpack_packer *pk, const char *s, size_t n) {
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, s, n);
}

static void pack_key(msgpack_packer *pk, const char *k) {
  pack_str(pk, k, strlen(k));
}

int hs_event_encode_msgpack(const hs_event_t *ev, hs_buf_t *out) {
  size_t before = out->len;
  pack_out_t po = {out, false};
  msgpack_packer pk;
  msgpack_packer_init(&pk, &po, buf_write);
  uint32_t n = 4 + (ev->n_attrs ? 1 : 0);
  for (int f = 1; f < HS_F__COUNT; f++)
    n += (ev->present & HS_FIELD_BIT(f)) != 0;
  msgpack_pack_map(&pk, n);
  pack_key(&pk, "event_id");
  pack_str(&pk, ev->event_id.ptr, ev->event_id.len);
  pack_key(&pk, "account_id");
  pack_str(&pk, ev->account_id.ptr, ev->account_id.len);
  pack_key(&pk, "type");
  if (ev->type == HS_EV_UNKNOWN)
    pack_str(&pk, ev->type_name.ptr, ev->type_name.len);
  else
    pack_key(&pk, hs_event_type_name(ev->type));
  pack_key(&pk, "ts");
  msgpack_pack_int64(&pk, ev->ts_ms);
  for (int f = 1; f < HS_F__COUNT; f++) {
    if (!(ev->present & HS_FIELD_BIT(f)))
      continue;
    pack_key(&pk, hs_field_name((hs_field_t)f));
    double v;
    if (is_time_field((hs_field_t)f)) {
      msgpack_pack_int64(&pk, time_value(ev, (hs_field_t)f));
    } else if (hs_event_num(ev, (hs_field_t)f, &v)) {
      if (v == floor(v) && fabs(v) < 9e15)
        msgpack_pack_int64(&pk, (int64_t)v);
      else
        msgpack_pack_double(&pk, v);
    } else {
      hs_str_t s = hs_event_str(ev, (hs_field_t)f);
      pack_str(&pk, s.ptr, s.len);
    }
  }
  if (ev->n_attrs) {
    pack_key(&pk, "attributes");
    msgpack_pack_map(&pk, ev->n_attrs);
    for (uint32_t i = 0; i < ev->n_attrs; i++) {
      pack_str(&pk, ev->attr_key[i].ptr, ev->attr_key[i].len);
      pack_str(&pk, ev->attr_val[i].ptr, ev->attr_val[i].len);
    }
  }
  if (po.failed) {
    out->len = before;
    return HS_E_NOMEM;
  }
  return 0;
}
