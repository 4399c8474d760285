/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* What each metric reference of a compiled profile depends on: the metrics
 * it needs (in dependency order), the series and scalars it reads, and how
 * it moves with time (internal.h, hs__profile_t): what an evaluation uses
 * to take again only the references whose inputs changed. */
#include "internal.h"

/* Marks metric i and everything it reads. */
static void need(const hs_model_t *m, int i, uint8_t *mark) {
  if (i < 0 || mark[i])
    return;
  mark[i] = 1;
  const hs__metric_t *mt = &m->metrics[i];
  need(m, mt->of, mark);
  need(m, mt->num, mark);
  need(m, mt->den, mark);
  need(m, mt->per, mark);
}

/* Records in the masks of profile `pr` what ref r's result depends on: the
 * series and scalars its metric reads (and those of the metrics it reads),
 * and whether it moves with time alone: continuously (time_refs), or only
 * as a latest value passes its age limit or staleness (step_refs). */
static void ref_inputs(const hs_model_t *m, hs__profile_t *pr, uint32_t r) {
  uint8_t mark[HS_MAX_METRICS] = {0};
  uint64_t bit = (uint64_t)1 << r;
  const hs__ref_t *rf = &pr->refs[r];
  const hs__metric_t *own = &m->metrics[rf->metric];
  bool step = rf->stale_ms > 0, cont = false; /* stale: t - the data's time */
  need(m, rf->metric, mark);
  if (!(rf->weight > 0))
    pr->unscored_refs |= bit;
  for (uint32_t i = 0; i < m->n_metrics; i++) {
    if (!mark[i])
      continue;
    const hs__metric_t *mt = &m->metrics[i];
    if (mt->view >= 0 && mt->kind != HS_MK_RATIO) {
      pr->series_refs[m->views[mt->view].series] |= bit;
      if (mt->view2 >= 0)
        pr->series_refs[m->views[mt->view2].series] |= bit;
      if (mt->kind == HS_MK_SLOPE)
        pr->aged_refs[m->views[mt->view].series] |= bit;
    } else if (mt->kind == HS_MK_DAYS_SINCE || mt->kind == HS_MK_LATEST) {
      pr->scalar_refs[mt->scalar] |= bit;
      if (mt->kind == HS_MK_DAYS_SINCE)
        cont = true;
      else if (mt->max_age_ms != 0)
        step = true;
    } else if (mt->kind == HS_MK_ATTRIBUTE) {
      if (mt->attr == HS__ATTR_TENURE || mt->attr == HS__ATTR_RENEWAL)
        cont = true; /* the others change with account events only */
    } else if (mt->kind != HS_MK_RATIO) {
      cont = true; /* not known here: always recomputed */
    }
  }
  /* a latest value read alone (no metric of its own to divide by): its
     value at t follows from its scalar and the two instants, its age limit
     and staleness, that t passes (dirty_refs) */
  if (step && !cont && own->kind == HS_MK_LATEST && own->per < 0)
    pr->step_refs |= bit;
  else if (step || cont)
    pr->time_refs |= bit;
  uint32_t n_marked = 0;
  for (uint32_t i = 0; i < m->n_metrics; i++)
    n_marked += mark[i];
  if (n_marked == 1 && own->per == -1 && rf->n_stages == 0 && rf->weight > 0 &&
      (own->kind == HS_MK_DAYS_SINCE ||
       (own->kind == HS_MK_ATTRIBUTE &&
        (own->attr == HS__ATTR_TENURE || own->attr == HS__ATTR_RENEWAL))))
    pr->days_refs |= bit;
  for (uint32_t k = 0; k < pr->n_needed; k++) {
    if (mark[pr->needed[k]]) {
      pr->needed_refs[k] |= bit;
      if (pr->ref_needed)
        pr->ref_needed[r] |= (uint64_t)1 << k;
    }
  }
}

/* Per profile, the metrics its score needs, in dependency order. */
int hs__compile_needed(hs_model_t *m) {
  for (uint32_t p = 0; p < m->n_profiles; p++) {
    hs__profile_t *pr = &m->profiles[p];
    uint8_t mark[HS_MAX_METRICS] = {0};
    for (uint32_t r = 0; r < pr->n_refs; r++)
      need(m, pr->refs[r].metric, mark);
    if (!(pr->needed = hs_calloc(m->n_metrics + 1, sizeof *pr->needed)))
      return HS_E_NOMEM;
    for (uint32_t k = 0; k < m->n_metrics; k++)
      if (mark[m->order[k]])
        pr->needed[pr->n_needed++] = m->order[k];
    if (!(pr->series_refs = hs_calloc(m->n_series + 1, sizeof *pr->series_refs)) ||
        !(pr->aged_refs = hs_calloc(m->n_series + 1, sizeof *pr->aged_refs)) ||
        !(pr->scalar_refs = hs_calloc(m->n_scalars + 1, sizeof *pr->scalar_refs)) ||
        !(pr->needed_refs = hs_calloc(pr->n_needed + 1, sizeof *pr->needed_refs)) ||
        (pr->n_needed <= 64 &&
         !(pr->ref_needed = hs_calloc(pr->n_refs + 1, sizeof *pr->ref_needed))))
      return HS_E_NOMEM;
    for (uint32_t r = 0; r < pr->n_refs; r++) {
      ref_inputs(m, pr, r);
      pr->group_total[pr->refs[r].group] += pr->refs[r].weight;
      pr->group_refs[pr->refs[r].group] |= (uint64_t)1 << r;
    }
    if (pr->n_groups > m->max_groups)
      m->max_groups = pr->n_groups;
  }
  m->incremental = m->n_series <= 64 && m->n_scalars <= 64;
  return 0;
}
