/* placeholder until the module lands */
typedef int hs__state_placeholder_t;
