// Every user action as an application GAction (app.*), acting on the editor window, so the editor
// can be scripted: gapplication action org.dirigent.Dirigent paint-stroke '(4, 6, [(10, 20), (60, 40)])'.
// Also the keyboard shortcuts (accelerators and the window's own keys).
#pragma once
#include "dg_window.h"

void dg_actions_install(GtkApplication *app, DgWindow *win);
