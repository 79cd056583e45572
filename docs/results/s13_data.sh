set -e
cd "$(dirname "$0")/../.."  # the repository root
B=".venv/bin/screenwise bench miniwob --max-steps 10 --workers 2 --seed-offset 0"
$B --policy model:teacher:student --tasks click-checkboxes-large,click-shape,click-widget,email-inbox-delete,email-inbox-important,identify-shape --seeds 300 --out runs/s13/distill-6
$B --policy model:teacher:visible --tasks click-collapsible-2,click-collapsible-2-nodelay,click-tab-2-hard --seeds 300 --out runs/s13/distill-visible
$B --policy model:teacher:visible --tasks navigate-tree --seeds 300 --out runs/s13/distill-tree
$B --policy model:teacher:student --tasks choose-list,click-button,click-button-sequence,click-checkboxes,click-checkboxes-transfer,click-collapsible,click-collapsible-nodelay,click-color,click-dialog,click-dialog-2,click-link,click-menu-2,click-option,click-tab,click-test,click-test-2,click-test-transfer,enter-password,enter-text,enter-text-2,enter-text-dynamic,focus-text,focus-text-2,generate-number,login-user,login-user-popup,multi-layouts,multi-orderings,odd-or-even,unicode-test --seeds 60 --out runs/s13/retain-30
$B --policy model:teacher:visible --tasks click-tab-2,click-tab-2-easy,click-tab-2-medium --seeds 60 --out runs/s13/retain-tabs
echo DATA DONE
