/* placeholder until the module lands */
typedef int hs__config_placeholder_t;
