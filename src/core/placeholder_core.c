/* placeholder until the module lands */
typedef int hs__core_placeholder_t;
