"""The instructor's commands: rubric, build-autograder, build-handout, calibrate.

None of this ships to students or to Gradescope: the zips carry only what
grading imports (see ``package.grading_files``).
"""
